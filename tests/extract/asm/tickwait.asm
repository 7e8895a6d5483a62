; NVIDIA's delay: wait CX BIOS ticks by watching the tick count at 0:046C, with an I/O-delay
; loop on port 0x80 (`in al, 0x80; dec esi; jnz`) as the bound, 40,960 reads a tick.
%include "header.inc"
init:
        push ds
        xor ax, ax
        mov ds, ax
        mov cx, 20              ; 20 ticks, about 1.1 s
        movzx esi, cx
        imul esi, esi, 0xA000
        xor dx, dx
        add cx, [0x46C]
        adc dx, [0x46E]
.wait:  mov ax, [0x46C]
        mov bx, [0x46E]
        cmp dx, bx
        jb .done
        cmp cx, ax
        jbe .done
        in al, 0x80
        dec esi
        jnz .wait
        mov byte [0x500], 1     ; ran out of reads: the ticks never moved
.done:  pop ds
        retf
        times 1024-($-$$) db 0
