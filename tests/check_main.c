/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * main() of every lwvsock test program.
 *
 * Environment (libcheck's own): CK_FORK=no runs tests in-process (for gdb and
 * valgrind), CK_INCLUDE_TAGS=test_name selects a test, CK_VERBOSITY sets the
 * summary detail, CK_TAP_LOG_FILE_NAME=- writes TAP to stdout (make check).
 */
#include "lwvsock_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"

int
main(int argc, char **argv)
{
  SRunner *sr;
  int failed;
  const char *tap = getenv("CK_TAP_LOG_FILE_NAME");

  if (argc > 1) {
    int help = (strcmp(argv[1], "--help") == 0) || (strcmp(argv[1], "-h") == 0);
    fprintf(help ? stdout : stderr,
            "usage: %s\n"
            "Runs this program's unit tests (libcheck). Settings come from the environment:\n"
            "  CK_FORK=no               run in-process (for gdb, valgrind)\n"
            "  CK_INCLUDE_TAGS=NAME     run only the test NAME (e.g. test_hdr_roundtrip)\n"
            "  CK_VERBOSITY=LEVEL       silent, minimal, normal (default) or verbose\n"
            "  CK_TAP_LOG_FILE_NAME=-   print TAP to stdout (as make check does)\n",
            argv[0]);
    return help ? EXIT_SUCCESS : EXIT_FAILURE;
  }

  /* In-process tests share one lwIP; forked ones inherit this initialised copy. */
  lwip_init();
  lwvsock_check_record_baseline();

  sr = srunner_create(lwvsock_test_suite());
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  if ((tap != NULL) && (strcmp(tap, "-") == 0)) {
    /* A TAP diagnostic line: the summary libcheck keeps quiet about in silent mode. */
    printf("# %d of %d tests failed\n", failed, srunner_ntests_run(sr));
  }
  srunner_free(sr);
  return (failed == 0) ? EXIT_SUCCESS : EXIT_FAILURE;
}
