"""service: run the daemon under the platform's service manager (systemd, launchd, the
Windows service control manager).
"""
