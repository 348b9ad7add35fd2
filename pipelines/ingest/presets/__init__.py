"""System presets: exports recognised from their headers and turned into canonical rows.

`base` says what a preset is (`columns`: whole-header look-ups for labels that differ only by
their notes); `shops`, `marketplaces`, `payments`, `helpdesks`, `erps`, `logo`, `crms` and
`newsletters` hold one function per system; `registry` lists them in the order they are tried.
"""
