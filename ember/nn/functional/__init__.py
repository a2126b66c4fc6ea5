"""ember.nn.functional: the stateless forms of every layer, with torch.nn.functional's names."""
from ._activation import *  # noqa: F401,F403
from ._linear import *  # noqa: F401,F403
from ._dropout import *  # noqa: F401,F403
from ._loss import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._embedding import *  # noqa: F401,F403
from ._conv import *  # noqa: F401,F403
from ._pooling import *  # noqa: F401,F403
from ._fractional import *  # noqa: F401,F403
from ._normalization import *  # noqa: F401,F403
from ._padding import *  # noqa: F401,F403
from ._sampling import *  # noqa: F401,F403
from ._distance import *  # noqa: F401,F403
from ._misc import *  # noqa: F401,F403
