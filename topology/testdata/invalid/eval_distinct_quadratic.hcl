# want: 5:14 distinct takes at most 1000 elements
lab "t" {}

locals {
  n = length(distinct(concat([for j in range(1024) : j], [for j in range(1024) : j + 1])))
}
