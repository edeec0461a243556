"""hotfolder: the daemon: its lifecycle, the profiles it runs, intake and folder watching,
the workers, publishing, and its status.
"""
