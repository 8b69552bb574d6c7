"""The HSDS-shaped community services directory."""
