# want: 5:10 width or precision 999999999
lab "t" {}

locals {
  wide = format("%999999999d", 1)
}
