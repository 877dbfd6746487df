/*
 * kiln's accelerator probe (see accel.ts): a boot sector that makes a CPU
 * accelerator run a guest the way an x86-64 kernel's first steps do. It
 * prints one line on the first serial port at each stage it reaches: real
 * mode (the BIOS handed over), protected mode, 64-bit long mode with paging
 * on, and "ran" once it has written and read back 32 MiB above 16 MiB (a
 * kernel decompressing itself). Then it halts. Needs 64 MiB of guest memory.
 *
 * Build: as --32 -o p.o accel_probe.S && ld -m elf_i386 -Ttext=0x7c00 --oformat=binary -o p.bin p.o
 */
        .code16
        .globl _start
_start:
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $0x7c00, %sp
        mov     $msg_real, %si
        call    puts16
        in      $0x92, %al              /* fast A20 */
        or      $2, %al
        and     $0xfe, %al
        out     %al, $0x92
        lgdt    gdtr
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmp    $0x08, $protected

puts16:
        mov     $0x3f8, %dx
1:      lodsb
        test    %al, %al
        jz      2f
        out     %al, %dx
        jmp     1b
2:      ret

        .code32
protected:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $msg_protected, %esi
        call    puts
        /* Identity-map the first 2 MiB: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000. */
        mov     $0x1000, %edi
        xor     %eax, %eax
        mov     $0xc00, %ecx
        rep stosl
        movl    $0x2003, 0x1000
        movl    $0x3003, 0x2000
        /* 2 MiB pages over the first 64 MiB: the guest works above 1 MiB, as a kernel does. */
        mov     $0x3000, %edi
        mov     $0x83, %eax
        mov     $32, %ecx
4:      movl    %eax, (%edi)
        add     $0x200000, %eax
        add     $8, %edi
        loop    4b
        mov     $0x1000, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax             /* PAE */
        mov     %eax, %cr4
        mov     $0xc0000080, %ecx       /* EFER.LME */
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000000, %eax       /* paging on: IA-32e */
        mov     %eax, %cr0
        ljmp    $0x18, $long

/* The same bytes run in 32-bit and 64-bit mode. */
puts:
        mov     $0x3f8, %dx
1:      lodsb
        test    %al, %al
        jz      2f
        out     %al, %dx
        jmp     1b
2:      ret

        .code64
long:
        mov     $msg_long, %esi
        call    puts
        /* Work as a kernel does at first: write 32 MiB from 16 MiB up, read it back. */
        mov     $0x1000000, %rdi
        mov     $0x400000, %rcx
        mov     $0x6b696c6e6b696c6e, %rax
        rep stosq
        mov     $0x1000000, %rsi
        mov     $0x400000, %rcx
        xor     %rdx, %rdx
5:      lodsq
        add     %rax, %rdx
        loop    5b
        mov     $msg_ran, %esi
        call    puts
3:      hlt
        jmp     3b

msg_real:       .asciz "KILN-PROBE:real\r\n"
msg_protected:  .asciz "KILN-PROBE:protected\r\n"
msg_long:       .asciz "KILN-PROBE:long\r\n"
msg_ran:        .asciz "KILN-PROBE:ran\r\n"

        .p2align 3
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff      /* 0x08: 32-bit code */
        .quad   0x00cf92000000ffff      /* 0x10: data */
        .quad   0x00af9a000000ffff      /* 0x18: 64-bit code */
gdt_end:
gdtr:
        .word   gdt_end - gdt - 1
        .long   gdt

        .org    510
        .word   0xaa55
