-- wrk script: the mixed partner workload of benchmarks/versus_prism.py.
-- Every 10 requests: 4 getCourtById, 2 listCourtBookings?courtId=...&limit=20, 3 upserts of new bookings,
-- 1 read of a booking this thread upserted earlier (500 upserts back, so its answer has surely arrived on
-- whichever connection carried it; a seed booking until then). Each thread books its own slots: no overlaps.
-- Arguments: PREFIX (e.g. /api/v1, or "" for Prism) RUN (a number; later runs book later slots).
-- At the end it prints one JSON line: requests, duration, latency percentiles (us), statuses, socket errors.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local SERVICE = "e8623a0d-39de-4963-9c6c-a25dc38e89c9"
local COURT = "79ae2927-a9bc-46ed-8f9e-079af32b7616"
local TOKEN = "Bearer tok_ext_v1_demo.write"
local EPOCH_2040 = 2208988800

function init(args)
  prefix = args[1] or "/api/v1"
  if prefix == "-" then prefix = "" end
  run = tonumber(args[2] or "0")
  statuses = {}
  n = 0
  booked = 0
  -- A block of 100,000 one-hour slots per (run, thread): about 11 years, far from every other block.
  first_slot = EPOCH_2040 + ((run * 16 + id) * 100000) * 3600
  read_headers = { ["Authorization"] = TOKEN }
  write_headers = { ["Authorization"] = TOKEN, ["Content-Type"] = "application/json" }
  booking_base = prefix .. "/external-services/" .. SERVICE .. "/court-bookings/by-external-id/"
  court_path = prefix .. "/courts/" .. COURT
  list_path = prefix .. "/external-services/" .. SERVICE .. "/court-bookings?courtId=" .. COURT .. "&limit=20"
end

local function iso(seconds)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", seconds)
end

function request()
  n = n + 1
  local position = n % 10
  if position < 4 then
    return wrk.format("GET", court_path, read_headers)
  elseif position < 6 then
    return wrk.format("GET", list_path, read_headers)
  elseif position < 9 then
    booked = booked + 1
    local start = first_slot + booked * 3600
    local body = '{"courtId": "' .. COURT .. '", "startDate": "' .. iso(start) .. '", "endDate": "' ..
      iso(start + 3600) .. '", "externalUpdatedAt": "2030-01-01T00:00:00Z", "participants": ' ..
      '[{"email": "bench@example.com"}]}'
    return wrk.format("PUT", booking_base .. "bench-" .. run .. "-" .. id .. "-" .. booked, write_headers, body)
  elseif booked > 500 then
    return wrk.format("GET", booking_base .. "bench-" .. run .. "-" .. id .. "-" .. (booked - 500), read_headers)
  else
    return wrk.format("GET", booking_base .. "demo-seed-1", read_headers)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, '"' .. status .. '": ' .. count)
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"statuses": {%s}, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, table.concat(parts, ", "), errors.connect + errors.read + errors.write + errors.timeout))
end
