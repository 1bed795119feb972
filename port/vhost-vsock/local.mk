# port/vhost-vsock/local.mk: the vhost-vsock owner fills this fragment (see Makefile.am for the variables to append to).
