"""Identity: OIDC login for employers (acting for a business id) and for staff (with roles), sessions."""

import warnings

from authlib.deprecate import AuthlibDeprecationWarning

# Authlib 1.9 deprecates its own jose and httpx modules in favour of joserfc/httpx2 (to come in 2.0);
# both still work as documented. Kept quiet here so the logs show what matters.
warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
