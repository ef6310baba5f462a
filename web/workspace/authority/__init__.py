"""The bus authority console: certificates, the catalogue, dead letters, workers' health."""
