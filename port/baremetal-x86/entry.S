/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PVH entry of the appliance: QEMU's -kernel finds the Xen ELF note below on
 * both q35 and microvm and jumps to bm_entry in 32-bit protected mode with
 * paging off, flat 4 GiB segments, interrupts off and %ebx pointing at the
 * hvm_start_info structure (Xen's arch-x86/hvm/start_info.h).
 *
 * Everything after this runs in that mode: physical addresses are virtual
 * addresses, so device memory is identity mapped without page tables.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.p2align 2
	.long 2f - 1f		/* namesz */
	.long 4f - 3f		/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz "Xen"
2:	.p2align 2
3:	.long bm_entry
4:	.p2align 2

	.section .text.entry, "ax", @progbits
	.code32
	.globl bm_entry
bm_entry:
	cli
	cld
	movl $bm_stack_top, %esp
	/* .bss is not in the file: zero it before any C runs. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx		/* link.ld aligns both ends to 16 */
	xorl %eax, %eax
	rep stosl
	pushl %ebx		/* struct hvm_start_info * */
	call bm_main
	/* bm_main does not return; if it ever does, stop here. */
1:	cli
	hlt
	jmp 1b

	.section .noinit, "aw", @nobits
	.p2align 4
bm_stack:
	.skip 65536
bm_stack_top:

	.section .note.GNU-stack, "", @progbits
