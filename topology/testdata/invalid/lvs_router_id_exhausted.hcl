# want: 669:1 No free router_id
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/16"
}

vm "d" {
  nic "net" {
    ip = "10.1.0.5"
  }
}

vm "w" {
  nic "net" {
    ip = "10.1.0.6"
  }
}

lvs "s0" {
  vip       = "10.1.1.10"
  port      = 1000
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s1" {
  vip       = "10.1.1.11"
  port      = 1001
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s2" {
  vip       = "10.1.1.12"
  port      = 1002
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s3" {
  vip       = "10.1.1.13"
  port      = 1003
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s4" {
  vip       = "10.1.1.14"
  port      = 1004
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s5" {
  vip       = "10.1.1.15"
  port      = 1005
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s6" {
  vip       = "10.1.1.16"
  port      = 1006
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s7" {
  vip       = "10.1.1.17"
  port      = 1007
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s8" {
  vip       = "10.1.1.18"
  port      = 1008
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s9" {
  vip       = "10.1.1.19"
  port      = 1009
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s10" {
  vip       = "10.1.1.20"
  port      = 1010
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s11" {
  vip       = "10.1.1.21"
  port      = 1011
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s12" {
  vip       = "10.1.1.22"
  port      = 1012
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s13" {
  vip       = "10.1.1.23"
  port      = 1013
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s14" {
  vip       = "10.1.1.24"
  port      = 1014
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s15" {
  vip       = "10.1.1.25"
  port      = 1015
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s16" {
  vip       = "10.1.1.26"
  port      = 1016
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s17" {
  vip       = "10.1.1.27"
  port      = 1017
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s18" {
  vip       = "10.1.1.28"
  port      = 1018
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s19" {
  vip       = "10.1.1.29"
  port      = 1019
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s20" {
  vip       = "10.1.1.30"
  port      = 1020
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s21" {
  vip       = "10.1.1.31"
  port      = 1021
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s22" {
  vip       = "10.1.1.32"
  port      = 1022
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s23" {
  vip       = "10.1.1.33"
  port      = 1023
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s24" {
  vip       = "10.1.1.34"
  port      = 1024
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s25" {
  vip       = "10.1.1.35"
  port      = 1025
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s26" {
  vip       = "10.1.1.36"
  port      = 1026
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s27" {
  vip       = "10.1.1.37"
  port      = 1027
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s28" {
  vip       = "10.1.1.38"
  port      = 1028
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s29" {
  vip       = "10.1.1.39"
  port      = 1029
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s30" {
  vip       = "10.1.1.40"
  port      = 1030
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s31" {
  vip       = "10.1.1.41"
  port      = 1031
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s32" {
  vip       = "10.1.1.42"
  port      = 1032
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s33" {
  vip       = "10.1.1.43"
  port      = 1033
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s34" {
  vip       = "10.1.1.44"
  port      = 1034
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s35" {
  vip       = "10.1.1.45"
  port      = 1035
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s36" {
  vip       = "10.1.1.46"
  port      = 1036
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s37" {
  vip       = "10.1.1.47"
  port      = 1037
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s38" {
  vip       = "10.1.1.48"
  port      = 1038
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s39" {
  vip       = "10.1.1.49"
  port      = 1039
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s40" {
  vip       = "10.1.1.50"
  port      = 1040
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s41" {
  vip       = "10.1.1.51"
  port      = 1041
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s42" {
  vip       = "10.1.1.52"
  port      = 1042
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s43" {
  vip       = "10.1.1.53"
  port      = 1043
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s44" {
  vip       = "10.1.1.54"
  port      = 1044
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s45" {
  vip       = "10.1.1.55"
  port      = 1045
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s46" {
  vip       = "10.1.1.56"
  port      = 1046
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s47" {
  vip       = "10.1.1.57"
  port      = 1047
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s48" {
  vip       = "10.1.1.58"
  port      = 1048
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s49" {
  vip       = "10.1.1.59"
  port      = 1049
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s50" {
  vip       = "10.1.1.60"
  port      = 1050
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s51" {
  vip       = "10.1.1.61"
  port      = 1051
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s52" {
  vip       = "10.1.1.62"
  port      = 1052
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s53" {
  vip       = "10.1.1.63"
  port      = 1053
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s54" {
  vip       = "10.1.1.64"
  port      = 1054
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s55" {
  vip       = "10.1.1.65"
  port      = 1055
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s56" {
  vip       = "10.1.1.66"
  port      = 1056
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s57" {
  vip       = "10.1.1.67"
  port      = 1057
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s58" {
  vip       = "10.1.1.68"
  port      = 1058
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s59" {
  vip       = "10.1.1.69"
  port      = 1059
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s60" {
  vip       = "10.1.1.70"
  port      = 1060
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s61" {
  vip       = "10.1.1.71"
  port      = 1061
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s62" {
  vip       = "10.1.1.72"
  port      = 1062
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s63" {
  vip       = "10.1.1.73"
  port      = 1063
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s64" {
  vip       = "10.1.1.74"
  port      = 1064
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s65" {
  vip       = "10.1.1.75"
  port      = 1065
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s66" {
  vip       = "10.1.1.76"
  port      = 1066
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s67" {
  vip       = "10.1.1.77"
  port      = 1067
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s68" {
  vip       = "10.1.1.78"
  port      = 1068
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s69" {
  vip       = "10.1.1.79"
  port      = 1069
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s70" {
  vip       = "10.1.1.80"
  port      = 1070
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s71" {
  vip       = "10.1.1.81"
  port      = 1071
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s72" {
  vip       = "10.1.1.82"
  port      = 1072
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s73" {
  vip       = "10.1.1.83"
  port      = 1073
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s74" {
  vip       = "10.1.1.84"
  port      = 1074
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s75" {
  vip       = "10.1.1.85"
  port      = 1075
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s76" {
  vip       = "10.1.1.86"
  port      = 1076
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s77" {
  vip       = "10.1.1.87"
  port      = 1077
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s78" {
  vip       = "10.1.1.88"
  port      = 1078
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s79" {
  vip       = "10.1.1.89"
  port      = 1079
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s80" {
  vip       = "10.1.1.90"
  port      = 1080
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s81" {
  vip       = "10.1.1.91"
  port      = 1081
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s82" {
  vip       = "10.1.1.92"
  port      = 1082
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s83" {
  vip       = "10.1.1.93"
  port      = 1083
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s84" {
  vip       = "10.1.1.94"
  port      = 1084
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s85" {
  vip       = "10.1.1.95"
  port      = 1085
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s86" {
  vip       = "10.1.1.96"
  port      = 1086
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s87" {
  vip       = "10.1.1.97"
  port      = 1087
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s88" {
  vip       = "10.1.1.98"
  port      = 1088
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s89" {
  vip       = "10.1.1.99"
  port      = 1089
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s90" {
  vip       = "10.1.1.100"
  port      = 1090
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s91" {
  vip       = "10.1.1.101"
  port      = 1091
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s92" {
  vip       = "10.1.1.102"
  port      = 1092
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s93" {
  vip       = "10.1.1.103"
  port      = 1093
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s94" {
  vip       = "10.1.1.104"
  port      = 1094
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s95" {
  vip       = "10.1.1.105"
  port      = 1095
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s96" {
  vip       = "10.1.1.106"
  port      = 1096
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s97" {
  vip       = "10.1.1.107"
  port      = 1097
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s98" {
  vip       = "10.1.1.108"
  port      = 1098
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s99" {
  vip       = "10.1.1.109"
  port      = 1099
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s100" {
  vip       = "10.1.1.110"
  port      = 1100
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s101" {
  vip       = "10.1.1.111"
  port      = 1101
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s102" {
  vip       = "10.1.1.112"
  port      = 1102
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s103" {
  vip       = "10.1.1.113"
  port      = 1103
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s104" {
  vip       = "10.1.1.114"
  port      = 1104
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s105" {
  vip       = "10.1.1.115"
  port      = 1105
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s106" {
  vip       = "10.1.1.116"
  port      = 1106
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s107" {
  vip       = "10.1.1.117"
  port      = 1107
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s108" {
  vip       = "10.1.1.118"
  port      = 1108
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s109" {
  vip       = "10.1.1.119"
  port      = 1109
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s110" {
  vip       = "10.1.1.120"
  port      = 1110
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s111" {
  vip       = "10.1.1.121"
  port      = 1111
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s112" {
  vip       = "10.1.1.122"
  port      = 1112
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s113" {
  vip       = "10.1.1.123"
  port      = 1113
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s114" {
  vip       = "10.1.1.124"
  port      = 1114
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s115" {
  vip       = "10.1.1.125"
  port      = 1115
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s116" {
  vip       = "10.1.1.126"
  port      = 1116
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s117" {
  vip       = "10.1.1.127"
  port      = 1117
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s118" {
  vip       = "10.1.1.128"
  port      = 1118
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s119" {
  vip       = "10.1.1.129"
  port      = 1119
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s120" {
  vip       = "10.1.1.130"
  port      = 1120
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s121" {
  vip       = "10.1.1.131"
  port      = 1121
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s122" {
  vip       = "10.1.1.132"
  port      = 1122
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s123" {
  vip       = "10.1.1.133"
  port      = 1123
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s124" {
  vip       = "10.1.1.134"
  port      = 1124
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s125" {
  vip       = "10.1.1.135"
  port      = 1125
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s126" {
  vip       = "10.1.1.136"
  port      = 1126
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s127" {
  vip       = "10.1.1.137"
  port      = 1127
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s128" {
  vip       = "10.1.1.138"
  port      = 1128
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "s129" {
  vip       = "10.1.1.139"
  port      = 1129
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}
