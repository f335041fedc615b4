"""The Wireshark side of dmdissect: a Lua dissector generated from the layers."""
