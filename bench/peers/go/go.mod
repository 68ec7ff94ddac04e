module oomkit.invalid/peers

go 1.19
