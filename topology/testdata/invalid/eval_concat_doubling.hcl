# want: 8:8 Evaluation limit exceeded
lab "t" {}

locals {
  l0 = range(1000)
  l1 = concat(local.l0, local.l0, local.l0, local.l0)
  l2 = concat(local.l1, local.l1, local.l1, local.l1)
  l3 = concat(local.l2, local.l2, local.l2, local.l2)
  l4 = concat(local.l3, local.l3, local.l3, local.l3)
  l5 = concat(local.l4, local.l4, local.l4, local.l4)
  l6 = concat(local.l5, local.l5, local.l5, local.l5)
  l7 = concat(local.l6, local.l6, local.l6, local.l6)
  l8 = concat(local.l7, local.l7, local.l7, local.l7)
  l9 = concat(local.l8, local.l8, local.l8, local.l8)
  l10 = concat(local.l9, local.l9, local.l9, local.l9)
  l11 = concat(local.l10, local.l10, local.l10, local.l10)
}
