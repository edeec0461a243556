"""profiles: the YAML a studio edits by hand, read into checked, frozen settings.

Every problem of a file is reported at once, each with its key path and a did-you-mean.
"""

from studiocut.profiles.fields import check_name_template, parse_colour
from studiocut.profiles.loader import (
    MAX_PROFILE_BYTES,
    MAX_YAML_NODES,
    builtin_default,
    files,
    load,
    load_dir,
    load_yaml_text,
    read_yaml,
    resolve,
)
from studiocut.profiles.parser import TOP_KEYS, inside, parse
from studiocut.profiles.schema import (
    DEFAULT_INCLUDE,
    EXTENSIONS,
    FORMATS,
    NAME_FIELDS,
    ONE_RENDITION,
    TIFF_COMPRESSIONS,
    Canvas,
    Cleanup,
    Dispatch,
    Encoding,
    Limits,
    Matting,
    MetadataRules,
    Profile,
    Rendition,
    Review,
    Rgb,
    Shadow,
    Sku,
)
from studiocut.profiles.sections import ASSIST_FAMILIES

__all__ = [
    "ASSIST_FAMILIES",
    "DEFAULT_INCLUDE",
    "EXTENSIONS",
    "FORMATS",
    "MAX_PROFILE_BYTES",
    "MAX_YAML_NODES",
    "NAME_FIELDS",
    "ONE_RENDITION",
    "TIFF_COMPRESSIONS",
    "TOP_KEYS",
    "Canvas",
    "Cleanup",
    "Dispatch",
    "Encoding",
    "Limits",
    "Matting",
    "MetadataRules",
    "Profile",
    "Rendition",
    "Review",
    "Rgb",
    "Shadow",
    "Sku",
    "builtin_default",
    "check_name_template",
    "files",
    "inside",
    "load",
    "load_dir",
    "load_yaml_text",
    "parse",
    "parse_colour",
    "read_yaml",
    "resolve",
]
