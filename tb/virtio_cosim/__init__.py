"""cocotb verification platform of the virtio device engine: toolchain, runner, testbenches.

Importing the package imports nothing from cocotb, so the pure-Python helpers (toolchain, sv_package, paths)
work without a simulator.
"""
