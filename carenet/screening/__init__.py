"""Health-related social needs screening (CMS AHC HRSN) turned into needs."""
