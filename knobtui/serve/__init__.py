"""How the simulator reaches another terminal: `knobtui serve` over SSH."""

import warnings

# cryptography 51 warns, when asyncssh is imported, that DSA is deprecated: asyncssh registers DSA keys
# whether or not anyone uses them, and the server never offers DSA. The warning went to the server's
# stderr before every one-line message (found by CI's clean install, which took cryptography 51).
warnings.filterwarnings("ignore", message=r"DSA is deprecated", module=r"asyncssh(\.|$)")
