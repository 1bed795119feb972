# tests/altcp.mk: the altcp owner fills this fragment (see Makefile.am for the variables to append to).
