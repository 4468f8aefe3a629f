"""The data layer: DataTree schema (dims, units, conventions, provenance) and netCDF IO."""

from .io import read_netcdf as read_netcdf
from .io import write_netcdf as write_netcdf
from .schema import CONVENTIONS as CONVENTIONS
from .schema import DIMS as DIMS
from .schema import conventions_attrs as conventions_attrs
from .schema import provenance as provenance
from .schema import variable as variable
