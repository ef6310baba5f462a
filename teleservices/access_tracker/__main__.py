from teleservices.access_tracker.cli import main

main()
