# port/sim/local.mk: the sim owner fills this fragment (see Makefile.am for the variables to append to).
