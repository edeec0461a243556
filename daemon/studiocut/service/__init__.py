"""service: run the daemon under the platform's service manager (systemd, launchd, the
Windows service control manager).

``spec`` says what a service definition holds; ``systemd``, ``launchd`` and ``windows`` turn it
into each platform's definition and install steps; ``platforms`` picks one by ``sys.platform``;
``plan`` carries the steps out (or prints them); ``winservice`` is the pywin32 service class.
"""
