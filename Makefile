# SPDX-License-Identifier: GPL-2.0
# kh_reflect: the module, khctl, and the two commands of the README.
#
#   make                 module (for KDIR) and khctl
#   make install         module + depmod + khctl      (DESTDIR, PREFIX)
#                        with its man pages, bash completion, systemd unit
#   make deb             Debian packages kh-reflect-dkms and khctl, in build/deb
#   make check           dependencies, then the tests: host, and VM (check-plan.sh)
#   make demo            dependencies, then the demo in a VM
#   make check-debug     every VM test on a KASAN/lockdep/kmemleak kernel
#   make kmods           the module for every installed kernel, in build/KVER
#   make kernels         5.10, 7.2 and 7.3 in chroots (scripts/kernels.sh)
#   make check-kernels   every VM test on every kernel, those of make kernels too
#   make fuzz            the probe parser under libFuzzer (FUZZ_SECONDS=600)
#   make bench           the benchmarks in a VM, into bench/RESULTS.md
#   make matrix          the whole NAT matrix (every pair of NAT kinds) in a VM
#   make matrix-repeat   the matrix MATRIX_RUNS times (5): runs off their path

VERSION := 0.1.0
W ?= 1
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system

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
KVER = $(shell $(MAKE) -s --no-print-directory -C $(KDIR) kernelrelease 2>/dev/null)

# What make kmods builds for: every kernel of selftests/kernels.sh, the host's
# and those scripts/kernels.sh keeps in chroots (built there), or the
# VERSION:TREE pairs given, each built on the host.
KMOD_TREES ?= $(shell . ./selftests/kernels.sh && kh_kernels --all)

# The oldest kernel the module builds for (Kbuild checks it too).
KH_FLOOR := 5.10

MOD_SRC := Kbuild $(wildcard kmod/*.c kmod/*.h) include/uapi/linux/kh_reflect.h

.PHONY: all module khctl install uninstall clean deps check demo kmods matrix \
	kernels check-kernels matrix-repeat \
	install-khctl uninstall-khctl deb \
	unit fuzz bench check-debug

all: module khctl

module:
	@test -n "$(KDIR)" || { echo "kh_reflect: no kernel build tree: install linux-headers or set KDIR=" >&2; exit 1; }
	@c=$$(sed -n 's/^#define LINUX_VERSION_CODE //p' $(KDIR)/include/generated/uapi/linux/version.h 2>/dev/null); \
	f=$(KH_FLOOR); test -z "$$c" || test "$$c" -ge $$(( ($${f%.*} << 16) + ($${f#*.} << 8) )) || \
	{ echo "kh_reflect: needs Linux $(KH_FLOOR) or newer (the oldest kernel Debian ships, whose APIs it uses); $(KDIR) is $$((c >> 16)).$$((c >> 8 & 255))" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

khctl:
	$(MAKE) -C genl-tool KH_VERSION=$(VERSION)

# Unsigned: the distribution's signing key is not ours to have.
install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		CONFIG_MODULE_SIG_ALL= modules_install
	test -n "$(DESTDIR)" || depmod -a $(KVER)
	$(MAKE) install-khctl DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# khctl, its man pages, its bash completion and khctl-sync@.service (systemd
# also reads units under /usr/local/lib/systemd/system).
install-khctl: khctl
	$(MAKE) -C genl-tool install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) SBINDIR=$(SBINDIR)
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(UNITDIR)
	install -m 0644 man/khctl.8 $(DESTDIR)$(MANDIR)/man8/khctl.8
	install -m 0644 man/kh_reflect.7 $(DESTDIR)$(MANDIR)/man7/kh_reflect.7
	install -m 0644 completion/khctl $(DESTDIR)$(COMPLETIONDIR)/khctl
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/khctl-sync@.service.in \
		>$(DESTDIR)$(UNITDIR)/khctl-sync@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/khctl-sync@.service

uninstall-khctl:
	rm -f $(DESTDIR)$(SBINDIR)/khctl $(DESTDIR)$(MANDIR)/man8/khctl.8 \
	      $(DESTDIR)$(MANDIR)/man7/kh_reflect.7 $(DESTDIR)$(COMPLETIONDIR)/khctl \
	      $(DESTDIR)$(UNITDIR)/khctl-sync@.service

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/kh_reflect.ko* \
	      $(DESTDIR)/lib/modules/$(KVER)/extra/kh_reflect.ko*
	test -n "$(DESTDIR)" || depmod -a $(KVER)
	$(MAKE) uninstall-khctl DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# The two Debian packages, by dpkg-buildpackage (debhelper, dh-dkms) in a
# copy of the sources: build/deb/kh-reflect-dkms_VERSION_all.deb and
# build/deb/khctl_VERSION_ARCH.deb.
DEB_SRC := Kbuild Makefile dkms.conf README.md $(wildcard kmod/*.c kmod/*.h) \
	include/uapi/linux/kh_reflect.h genl-tool/Makefile \
	$(wildcard genl-tool/*.c genl-tool/*.h) man/khctl.8 man/kh_reflect.7 \
	completion/khctl systemd/khctl-sync@.service.in \
	$(addprefix debian/,changelog control copyright rules source/format \
		kh-reflect-dkms.dkms khctl.docs)

deb: deps
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version) && \
	test "$$v" = "$(VERSION)" || \
		{ echo "kh_reflect: debian/changelog says $$v, the Makefile $(VERSION)" >&2; exit 1; }
	rm -rf build/deb
	mkdir -p build/deb/kh-reflect-$(VERSION)
	cp -p --parents $(DEB_SRC) build/deb/kh-reflect-$(VERSION)/
	cd build/deb/kh-reflect-$(VERSION) && dpkg-buildpackage -b -us -uc
	@ls build/deb/*.deb

# Out-of-tree builds write next to the sources, so each kernel gets its own
# copy of them.  A failed build leaves no .ko: the tests report it.  The
# recipe names $(MAKE), so make -n would run it: it says what it would do.
kmods:
ifneq ($(findstring n,$(firstword -$(MAKEFLAGS))),)
	@echo "kh_reflect: would build for $(KMOD_TREES)"
else
	@. ./selftests/kernels.sh; \
	for p in $(KMOD_TREES); do \
		v=$${p%%:*}; k=$${p#*:}; \
		d=build/$$v; rm -rf $$d; mkdir -p $$d; \
		cp -r --parents $(MOD_SRC) $$d/; \
		c=$$(kh_chroot $$v); echo "kh_reflect: building for $$v$${c:+ in $$c}"; \
		if [ "$$k" = "$$p" ]; then kh_kmake $$v $$d W=$(W) modules; \
		else $(MAKE) -C $$k M=$(CURDIR)/$$d W=$(W) modules; fi \
			>$$d/build.log 2>&1 || { cat $$d/build.log; rm -f $$d/kh_reflect.ko; }; \
	done
endif

# kmod/netlink-gen.[ch], the family's ops and policies, from its spec
# Documentation/netlink/specs/kh_reflect.yaml by the kernel's ynl-gen-c.py
# (from linux-source-6.12: make deps); selftests/host/46-netlink-gen.sh
# checks that they are current.
.PHONY: netlink-gen
netlink-gen:
	@Documentation/netlink/ynl-gen.sh

# The kernels apt cannot install on Debian 12 (5.10, 7.2, 7.3), in chroots.
kernels:
	@scripts/kernels.sh

# The whole VM suite on every kernel, the chroots' included (make check
# boots the host's only).
check-kernels: deps kernels
	-@$(MAKE) --no-print-directory khctl kmods build/loadgen
	@selftests/run.sh --vm-only --keep-going \
		$$(. ./selftests/kernels.sh && kh_kernels --all | sed 's/^/--kernel /')

deps:
	@scripts/deps.sh

unit:
	$(MAKE) -C selftests/unit

build/loadgen: bench/loadgen.c include/uapi/linux/kh_reflect.h
	@mkdir -p build
	$(CC) -O2 -g -Wall -Wextra -Werror -Iinclude/uapi -o $@ bench/loadgen.c

# Every benchmark, side by side with its baseline: bench/RESULTS.md.
bench: deps
	-@$(MAKE) --no-print-directory khctl kmods build/loadgen
	@selftests/bench.sh

# The whole NAT matrix (every pair of the lab's seven kinds) on every kernel;
# make check runs a subset.
matrix: deps
	-@$(MAKE) --no-print-directory khctl kmods
	@KH_MATRIX=full selftests/run.sh --vm-only --filter '68-*'

# Flakiness, measured: the whole matrix MATRIX_RUNS times (5) on every
# kernel, with per row the runs that left their expected path.
MATRIX_RUNS ?= 5
matrix-repeat: deps
	-@$(MAKE) --no-print-directory khctl kmods
	@KH_MATRIX=full KH_MATRIX_RUNS=$(MATRIX_RUNS) \
		KH_TEST_TIMEOUT=$$((900 * $(MATRIX_RUNS))) \
		KH_BOOT_TIMEOUT=$$((2400 + 900 * $(MATRIX_RUNS))) \
		selftests/run.sh --vm-only --keep-going --filter '68-*'

# The probe parser and builder under libFuzzer (FUZZ_SECONDS, default 600).
fuzz: deps
	$(MAKE) -C selftests/unit fuzz

# The whole suite on the newest kernel, the core on the oldest and the
# host's own (selftests/check-plan.sh); the module is built and checked for
# every kernel.  make check-kernels boots them all.
check: deps kernels
	-@$(MAKE) --no-print-directory khctl kmods build/loadgen
	@selftests/run.sh --keep-going $$(selftests/check-plan.sh)

# Not part of make check: builds (once, cached) a debug kernel.
check-debug: deps
	-@$(MAKE) --no-print-directory khctl
	@selftests/check-debug.sh

demo: deps
	-@$(MAKE) --no-print-directory khctl kmods
	@selftests/demo.sh

clean:
	-test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C genl-tool clean
	-$(MAKE) -C selftests/unit clean
	rm -rf build
