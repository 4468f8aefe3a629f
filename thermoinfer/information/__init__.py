"""Information quantities, entropy conventions, estimators and the learning efficiency."""

from .channels import (
    LN2 as LN2,
)
from .channels import (
    biawgn_information as biawgn_information,
)
from .channels import (
    binary_channel_information as binary_channel_information,
)
from .channels import (
    binary_channel_information_from_snr as binary_channel_information_from_snr,
)
from .channels import (
    binary_entropy as binary_entropy,
)
from .channels import (
    gaussian_channel_information as gaussian_channel_information,
)
from .channels import (
    gaussian_tail as gaussian_tail,
)
from .efficiency import (
    EFFICIENCY_STATUS as EFFICIENCY_STATUS,
)
from .efficiency import (
    EfficiencyResult as EfficiencyResult,
)
from .efficiency import (
    efficiency as efficiency,
)
from .efficiency import (
    status_name as status_name,
)
