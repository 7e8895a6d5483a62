// A register block laid out as before the one-process generator: a decode wire and a
// process per register. check_rtl_structure.py must refuse it (test sim_rtl_structure).
module rtl_two_processes (
  input  logic        clk,
  input  logic [32:0] bus_addr,
  input  logic [63:0] bus_wdata,
  input  logic        bus_wr,
  output logic [31:0] r0,
  output logic [31:0] r1
);
  logic r0_we;
  assign r0_we = bus_wr && bus_addr == 33'h20000000;
  always_ff @(posedge clk) if (r0_we) r0 <= bus_wdata[31:0];
  always_ff @(posedge clk) if (bus_wr && bus_addr == 33'h20000000) r1 <= bus_wdata[63:32];
endmodule
