; PCI configuration mechanism #1: dword, word and byte reads; BAR sizing; ROM BAR sizing.
%include "header.inc"
init:
        mov dx, 0xCF8
        mov eax, 0x80001000     ; bus 0, devfn 0x10, register 0x00
        out dx, eax
        mov dx, 0xCFC
        in eax, dx              ; vendor/device (dword)
        mov dx, 0xCF8
        mov eax, 0x80001008
        out dx, eax
        mov dx, 0xCFE
        in ax, dx               ; class code high word (0x0A)
        mov dx, 0xCFF
        in al, dx               ; base class (0x0B)
        mov dx, 0xCF8
        mov eax, 0x80001010     ; BAR0
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        mov esi, eax            ; keep the base
        mov eax, 0xFFFFFFFF
        out dx, eax
        in eax, dx              ; size mask
        mov eax, esi
        out dx, eax             ; restore
        mov dx, 0xCF8
        mov eax, 0x80001030     ; expansion ROM BAR
        out dx, eax
        mov dx, 0xCFC
        mov eax, 0xFFFFFFFE
        out dx, eax
        in eax, dx
        mov dx, 0xCF8
        mov eax, 0x80000800     ; another function (devfn 8): absent
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        mov ebp, eax            ; all ones expected, no event
        retf
        times 1024-($-$$) db 0
