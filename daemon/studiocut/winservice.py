"""winservice: the old import path of the Windows service class.

Services installed by studiocut 0.1 name ``studiocut.winservice.StudiocutService`` in the
registry; pythonservice.exe imports it by that name, so it must keep working. New installs name
``studiocut.service.winservice.StudiocutService``.
"""

from studiocut.service.winservice import StudiocutService

__all__ = ["StudiocutService"]
