"""System presets: exports recognised from their headers and turned into canonical rows.

`base` says what a preset is; `shops`, `marketplaces`, `payments`, `helpdesks`, `erps`, `crms`
and `newsletters` hold one function per system; `registry` lists them in the order they are tried.
"""
