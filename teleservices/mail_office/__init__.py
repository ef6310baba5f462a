"""The digital mail office: bureau d'ordre digital and electronic mail desk, a govbus participant."""
