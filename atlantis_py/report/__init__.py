"""Pull request comments: Jinja2 templates rendered to markdown, split to fit the forge."""

from atlantis_py.report.render import Renderer
from atlantis_py.report.split import CommentPart, split_comment, split_parts

__all__ = ["CommentPart", "Renderer", "split_comment", "split_parts"]
