-- wrk script: a long mix of ordinary requests whose state stays bounded, for benchmarks/soak.py.
-- Each thread re-versions a pool of 100 bookings with a new participant e-mail every time, deletes and
-- re-creates them (tombstones), lists with a long filter, reads, and sends requests that fail (404, 400).

local SERVICE = "e8623a0d-39de-4963-9c6c-a25dc38e89c9"
local COURT = "79ae2927-a9bc-46ed-8f9e-079af32b7616"
local TOKEN = "Bearer tok_ext_v1_demo.write"
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  version = tonumber(args[1] or "0") * 1000000  -- each round's versions are newer than the last round's
  statuses = {}
  headers = { ["Authorization"] = TOKEN, ["Content-Type"] = "application/json" }
  base = "/api/v1/external-services/" .. SERVICE .. "/court-bookings"
  long_filter = base .. "?courtId=" .. COURT .. "&participantEmail=" .. string.rep("a", 4000) .. "@example.com"
end

local function stamp(seconds)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", seconds)
end

function request()
  n = n + 1
  local slot = n % 100
  local key = base .. "/by-external-id/soak-" .. id .. "-" .. slot
  local position = n % 10
  if position < 5 then
    version = version + 1
    local start = 4102444800 + (id * 1000 + slot) * 7200  -- 2100 on: one slot per booking, never overlapping
    local body = '{"courtId": "' .. COURT .. '", "startDate": "' .. stamp(start) .. '", "endDate": "' ..
      stamp(start + 3600) .. '", "externalUpdatedAt": "' .. stamp(1900000000 + version) ..
      '", "participants": [{"email": "p' .. version .. '@example.com"}]}'
    return wrk.format("PUT", key, headers, body)
  elseif position == 5 then
    version = version + 1
    return wrk.format("DELETE", key .. "?externalUpdatedAt=" .. stamp(1900000000 + version), headers)
  elseif position == 6 then
    return wrk.format("GET", long_filter, headers)
  elseif position == 7 then
    return wrk.format("GET", key, headers)
  elseif position == 8 then
    return wrk.format("GET", "/api/v1/courts/00000000-0000-4000-8000-000000000000", headers)
  else
    return wrk.format("PUT", key, headers, '{"courtId": NaN}')
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
  io.write(string.format('{"requests": %d, "statuses": {%s}}\n', summary.requests, table.concat(parts, ", ")))
end
