"""Which projects a change touches."""

from atlantis_py.core.detect.dirs import affected_projects

__all__ = ["affected_projects"]
