# The sampling heap profile (docs/profile.md): pf_profile checks the estimate
# of two call sites' live bytes and that freed blocks leave the profile. It
# sets the options itself (xa_option_set), so it runs alike natively, under
# qemu-user and under wine, with or without the malloc override.
xa_test(pf_profile SOURCES pf_profile.c LABELS profile TIMEOUT 300)
