# want: 3:11 Did you mean "kvm"?
lab "t" {
  accel = "kmv"
}
