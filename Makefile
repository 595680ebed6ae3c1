# SPDX-License-Identifier: GPL-2.0
# kh_reflect: the module, khctl, and the two commands of the README.
#
#   make                 module (for KDIR) and khctl
#   make install         module + depmod + khctl      (DESTDIR, PREFIX)
#   make check           dependencies, then every test (host and VM)
#   make demo            dependencies, then the demo in a VM
#   make kmods           the module for every installed kernel, in build/KVER
#   make fuzz            the probe parser under libFuzzer (FUZZ_SECONDS=600)

VERSION := 0.1.0
W ?= 1
PREFIX ?= /usr/local

# The running kernel's build tree, else the newest one installed (our
# machines run a kernel without module support).
ifeq ($(origin KDIR),undefined)
KDIR := $(shell k=/lib/modules/$$(uname -r)/build; \
	if [ -f $$k/Makefile ]; then echo $$k; else \
	for d in /lib/modules/*/build; do [ -f $$d/Makefile ] && echo $$d; done | \
	sort -V | tail -n 1; fi)
ifneq ($(KDIR),/lib/modules/$(shell uname -r)/build)
$(info kh_reflect: no build tree for the running kernel; using KDIR=$(KDIR))
endif
endif
KVER = $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)

# Every kernel with both an image and a build tree, for the VM tests.
KVERS := $(shell for d in /lib/modules/*/build; do \
	v=$$(basename $$(dirname $$d)); \
	[ -f $$d/Makefile ] && [ -f /boot/vmlinuz-$$v ] && echo $$v; done | sort -V)

MOD_SRC := Kbuild $(wildcard kmod/*.c kmod/*.h) include/uapi/linux/kh_reflect.h

.PHONY: all module khctl install uninstall clean deps check demo kmods \
	unit fuzz

all: module khctl

module:
	@test -n "$(KDIR)" || { echo "kh_reflect: no kernel build tree: install linux-headers or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

khctl:
	$(MAKE) -C genl-tool KH_VERSION=$(VERSION)

# Unsigned: the distribution's signing key is not ours to have.
install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		CONFIG_MODULE_SIG_ALL= modules_install
	test -n "$(DESTDIR)" || depmod -a $(KVER)
	$(MAKE) -C genl-tool install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/kh_reflect.ko* \
	      $(DESTDIR)/lib/modules/$(KVER)/extra/kh_reflect.ko*
	test -n "$(DESTDIR)" || depmod -a $(KVER)
	rm -f $(DESTDIR)$(PREFIX)/sbin/khctl

# Out-of-tree builds write next to the sources, so each kernel gets its own
# copy of them.  A failed build leaves no .ko: the tests report it.
kmods:
	@for v in $(KVERS); do \
		d=build/$$v; rm -rf $$d; mkdir -p $$d; \
		cp -r --parents $(MOD_SRC) $$d/; \
		echo "kh_reflect: building for $$v"; \
		$(MAKE) -C /lib/modules/$$v/build M=$(CURDIR)/$$d W=$(W) modules \
			>$$d/build.log 2>&1 || { cat $$d/build.log; rm -f $$d/kh_reflect.ko; }; \
	done

deps:
	@scripts/deps.sh

unit:
	$(MAKE) -C selftests/unit

# The probe parser and builder under libFuzzer (FUZZ_SECONDS, default 600).
fuzz: deps
	$(MAKE) -C selftests/unit fuzz

check: deps
	-@$(MAKE) --no-print-directory khctl kmods
	@selftests/run.sh --keep-going

demo: deps
	-@$(MAKE) --no-print-directory khctl kmods
	@selftests/demo.sh

clean:
	-test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C genl-tool clean
	-$(MAKE) -C selftests/unit clean
	rm -rf build
