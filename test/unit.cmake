# Unit tests of internal modules (size classes, OS layer, lookups, free lists).
xa_test(unit_bins INTERNAL SOURCES unit_bins.c LABELS unit)
xa_test(unit_lookup INTERNAL SOURCES unit_lookup.c LABELS unit)
if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  xa_test(unit_os INTERNAL SOURCES unit_os.c LABELS unit)  # RSS checks need real page accounting
endif()
