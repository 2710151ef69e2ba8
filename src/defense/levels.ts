/**
 * IPVS's defence levels (net/netfilter/ipvs/ip_vs_ctl.c update_defense_level), with the
 * table's free entries in place of the system's free memory: `availmem` is
 * capacity - count and `amemthresh` a number of entries (docs/reliability.md).
 *
 * Each strategy has a mode as its sysctl: 0 off, 1 automatic (becomes 2 while short of
 * room), 2 automatic and active now (back to 1 once there is room again), 3 always on.
 * Pure: no clock, no table; update() is called once a second (DEFENSE_TIMER_PERIOD).
 */
export class DefenseLevels {
  /** net.ipv4.vs.drop_entry, drop_packet, secure_tcp (0..3). */
  dropEntryMode = 0;
  dropPacketMode = 0;
  secureTcpMode = 0;
  /** net.ipv4.vs.amemthresh (entries here) and am_droprate (mode 3 of drop_packet). */
  amemthresh = 1024;
  amDroprate = 10;

  /** The state update_defense_level leaves: ipvs->dropentry, drop_rate/drop_counter, the TCP table. */
  dropEntry = false;
  dropRate = 0;
  dropCounter = 0;
  secureTcp = false;
  private oldSecureTcp = 0;

  /** update_defense_level for `availmem` free entries. */
  update(availmem: number): void {
    const thresh = this.amemthresh > 0 ? this.amemthresh : 0;
    const nomem = availmem < thresh;

    switch (this.dropEntryMode) {
      case 0: this.dropEntry = false; break;
      case 1:
        this.dropEntry = nomem;
        if (nomem) this.dropEntryMode = 2;
        break;
      case 2:
        this.dropEntry = nomem;
        if (!nomem) this.dropEntryMode = 1;
        break;
      case 3: this.dropEntry = true; break;
    }

    switch (this.dropPacketMode) {
      case 0: this.dropRate = 0; break;
      case 1:
        if (nomem) {
          this.dropRate = this.dropCounter = Math.trunc(thresh / (thresh - availmem));
          this.dropPacketMode = 2;
        } else {
          this.dropRate = 0;
        }
        break;
      case 2:
        if (nomem) {
          this.dropRate = this.dropCounter = Math.trunc(thresh / (thresh - availmem));
        } else {
          this.dropRate = 0;
          this.dropPacketMode = 1;
        }
        break;
      case 3: this.dropRate = this.amDroprate; break;
    }

    // The kernel swaps the TCP state table only on a change (to_change), from old_secure_tcp.
    let toChange = -1;
    switch (this.secureTcpMode) {
      case 0: if (this.oldSecureTcp >= 2) toChange = 0; break;
      case 1:
        if (nomem) {
          if (this.oldSecureTcp < 2) toChange = 1;
          this.secureTcpMode = 2;
        } else if (this.oldSecureTcp >= 2) {
          toChange = 0;
        }
        break;
      case 2:
        if (nomem) {
          if (this.oldSecureTcp < 2) toChange = 1;
        } else {
          if (this.oldSecureTcp >= 2) toChange = 0;
          this.secureTcpMode = 1;
        }
        break;
      case 3: if (this.oldSecureTcp < 2) toChange = 1; break;
    }
    this.oldSecureTcp = this.secureTcpMode;
    if (toChange >= 0) this.secureTcp = this.secureTcpMode > 1;
  }

  /** ip_vs_todrop: with a drop rate r, one new connection in r is dropped. */
  todrop(): boolean {
    if (this.dropRate === 0) return false;
    if (--this.dropCounter > 0) return false;
    this.dropCounter = this.dropRate;
    return true;
  }
}
