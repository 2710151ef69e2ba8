-- wrk script for the lab benchmark's direct case: thread k connects to the k-th
-- address of WRK_ADDRS (comma-separated), so one wrk process with -t2 loads both
-- real servers the way the balanced cases load the VIP (same process, same threads).
local addrs = {}
local n = 0

function setup(thread)
  if #addrs == 0 then
    for a in string.gmatch(os.getenv("WRK_ADDRS") or "", "[^,]+") do
      for _, x in ipairs(wrk.lookup(a, "80")) do table.insert(addrs, x) end
    end
  end
  n = n + 1
  thread.addr = addrs[((n - 1) % #addrs) + 1]
end
