# want: 2:5 Invalid lab name
lab "My_Lab" {}
