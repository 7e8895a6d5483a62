; Enters protected mode, loads DS/ES with a flat 4 GiB data descriptor, returns to real
; mode, reloads DS the real-mode way and reads/writes beyond 1 MiB through the kept limit.
; Loaded at 1000:0000; ends with RETF to the caller.
bits 16
org 0
start:
    cli
    mov ax, cs
    mov ds, ax
    lgdt [gdt_ptr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm16        ; 16-bit code descriptor, base 0x10000
pm16:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0x1000:rm16
rm16:
    xor ax, ax
    mov ds, ax           ; base 0, limit stays 4 GiB
    mov esi, 0x00150000
    mov dword [esi], 0xCAFEBABE
    mov ebx, [esi]
    mov ax, 0x2000
    mov es, ax           ; base 0x20000
    mov edi, 0x00100000
    mov byte [es:edi], 0x5A ; linear 0x120000
    retf
align 8
gdt:
    dq 0
    dq 0x00009A010000FFFF    ; 0x08: code, base 0x10000, limit 64 KiB, 16-bit
    dq 0x00CF92000000FFFF    ; 0x10: data, base 0, limit 4 GiB, 32-bit
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd 0x10000 + gdt
