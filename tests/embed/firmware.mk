# SPDX-License-Identifier: BSD-3-Clause
# tests/embed/firmware.mk: a plain lwIP build, as an appliance project has one,
# that adds lwvsock through Filelists.mk. CI runs it from scripts/embed.sh:
#   make -f tests/embed/firmware.mk LWIPDIR=.../lwip/src LWVSOCKDIR=. OUT=DIR APP=embed.c
# It builds lwIP's core with tests/embed/lwipopts.h, lwvsock's driver, altcp
# provider and simulated host, and APP (a program that runs on the sim).
include $(LWIPDIR)/Filelists.mk
include $(LWVSOCKDIR)/Filelists.mk

CC ?= cc
CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror
CPPFLAGS = -I$(LWVSOCKDIR)/tests/embed -I$(LWVSOCKDIR)/port/unix/include -I$(LWIPDIR)/include $(LWVSOCKINCLUDES)
SRCS = $(COREFILES) $(CORE4FILES) $(LWVSOCKFILES) $(LWVSOCKALTCPFILES) $(LWVSOCKSIMFILES) $(APP)
OBJS = $(patsubst %.c,$(OUT)/obj/%.o,$(notdir $(SRCS)))

vpath %.c $(sort $(dir $(SRCS)))

$(OUT)/embed: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $(OBJS)

$(OUT)/obj/%.o: %.c
	@mkdir -p $(OUT)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
