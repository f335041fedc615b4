"""dmdissect: a dissector for the Hyper-V Dynamic Memory protocol."""

__version__ = "0.1.0"
