"""The agents' workspace (``/workspace``): administration staff sign in and work their office's mail."""
