# want: 5:70 Evaluation limit exceeded
lab "t" {}

locals {
  unused = [for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]
}
