; Virtual time: PIT channel 2 one-shot polled through port 0x61, INT 15h/86h, INT 1Ah
; tick count, RDTSC, the port 0x61 refresh toggle.
%include "header.inc"
init:
        rdtsc
        mov esi, eax            ; TSC at start
        in al, 0x61
        and al, 0xFC
        out 0x61, al            ; gate off
        mov al, 0xB0            ; channel 2, lo/hi, mode 0
        out 0x43, al
        mov al, 0x00
        out 0x42, al
        mov al, 0x10            ; 0x1000 counts = 3.43 ms
        out 0x42, al
        in al, 0x61
        or al, 1
        out 0x61, al            ; gate on: counting starts
        mov ecx, 100000000
.wait:  in al, 0x61
        test al, 0x20
        loopz .wait, ecx        ; until OUT2 goes high (bounded)
        mov edi, ecx            ; > 0 when the PIT ended the loop
        mov ah, 0x86
        mov cx, 0
        mov dx, 1000            ; 1 ms
        int 0x15
        mov ah, 0
        int 0x1A                ; CX:DX ticks
        rdtsc
        sub eax, esi
        mov ebp, eax            ; elapsed virtual ns
        retf
        times 1024-($-$$) db 0
