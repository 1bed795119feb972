# tests/proto.mk: the lead fills this fragment (see Makefile.am for the variables to append to).
