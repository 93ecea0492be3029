"""Runs CPython's own regression-test modules for ov_prog_python3
(test/ov_programs.sh): python3 py_unittest.py MODULE...

Plain unittest with -v, so stderr lists every test with its result. It turns
test.support.verbose off (it defaults to on outside regrtest, and then some
modules, test_thread for one, print timing-dependent chatter on stdout)."""
import sys
import unittest

import test.support

test.support.verbose = 0
unittest.main(module=None, argv=["py_unittest", "-v"] + ["test." + m for m in sys.argv[1:]])
