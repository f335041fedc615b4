-- The runtime of the generated dissector: what every message shares.
--
-- Nothing here knows a message: the layer functions generated after this
-- file (DISSECT, SUMMARY and ITEM, one per layer) read each field at its
-- constant offset, and the tables above give names, enumerations and limits,
-- all from dmdissect's Scapy layers.  Every read is checked against the bytes
-- there, so a short or lying packet is shown as far as it goes and flagged,
-- never a Lua error.

local F = F

-- Wireshark's methods, looked up once: ``tree:add(...)`` finds ``add``
-- through the class's __index, a C function, on every call; a local does not.
local tvb_range, tvb_raw = Tvb.range, Tvb.raw
local add, add_le = TreeItem.add, TreeItem.add_le
local set_text, append_text = TreeItem.set_text, TreeItem.append_text
local set_generated, set_hidden, set_len = TreeItem.set_generated, TreeItem.set_hidden, TreeItem.set_len
local add_proto_expert_info = TreeItem.add_proto_expert_info
-- Lua's own functions as locals too: a global is a table lookup per use.
local type, tostring, tonumber, ipairs, pairs, select = type, tostring, tonumber, ipairs, pairs, select
local format = string.format
local bitlib = bit32 or bit
local band, bxor, rshift = bitlib.band, bitlib.bxor, bitlib.rshift

-- numbers: Lua numbers up to 53 bits, UInt64 beyond --------------------------

local U64_MASKS = {}
for bits = 1, 64 do
    local lo = bits >= 32 and 0xFFFFFFFF or (2 ^ bits - 1)
    local hi = bits > 32 and (2 ^ (bits - 32) - 1) or 0
    U64_MASKS[bits] = UInt64(lo, hi)
end

local function is_u64(v)
    return type(v) == "userdata"
end

local function is_number(v)
    local kind = type(v)
    return kind == "number" or kind == "userdata"
end

local function is_zero(v)
    if v == nil then return true end
    if is_u64(v) then return v:tonumber() == 0 end
    if type(v) == "number" then return v == 0 end
    if type(v) == "table" then return #v == 0 end
    return false
end

local function tonum(v)
    if type(v) == "userdata" then return v:tonumber() end
    return v
end

local function dec(v)
    if type(v) == "number" then return format("%d", v) end
    return tostring(v)
end

local function hex(v)
    if is_u64(v) then
        local digits = v:tohex(16):gsub("^0+", "")
        if digits == "" then digits = "0" end
        return "0x" .. digits:lower()
    end
    return format("0x%x", v)
end

-- As dmdissect.views.english.mib_text: whole MiB bare, else two decimals, and a size too
-- small for them (one page) "< 0.01 MiB", never "0.00 MiB".
local function fraction_mib(size)
    if size < 0.005 then return "< 0.01 MiB" end
    return format("%.2f MiB", size)
end

local PAGES_PER_MIB = CONST.pages_per_mib

local function mib(v)
    local per = PAGES_PER_MIB
    if type(v) == "number" then
        local size = v / per
        if v % per == 0 then return format("%d MiB", size) end
        if size < 0.005 then return "< 0.01 MiB" end
        return format("%.2f MiB", size)
    end
    if type(v) == "userdata" then
        if v:band(UInt64(per - 1)):tonumber() == 0 then
            return tostring(v:rshift(CONST.pages_per_mib_shift)) .. " MiB"
        end
        return fraction_mib(v:tonumber() / per)
    end
    if v % per == 0 then
        return format("%d MiB", v / per)
    end
    return fraction_mib(v / per)
end

-- The missing names of a structure the bytes covered: shared, never changed.
local NOTHING = {}

-- One format call for a plain number, the common case: the summaries call this per packet.
local function plural(n, word)
    if type(n) == "number" then
        if n == 1 then return "1 " .. word end
        return format("%d %ss", n, word)
    end
    if tonum(n) == 1 then return dec(n) .. " " .. word end
    return dec(n) .. " " .. word .. "s"
end

-- The packet's bytes as one string, read once per packet: numbers are taken
-- from it rather than through a TvbRange each (the callers check the bounds).
local RAW = ""

-- what the generated summaries use ---------------------------------------------------

local function flags_text(v, names)
    local parts = {}
    v = tonum(v)
    for i, name in ipairs(names) do
        if math.floor(v / 2 ^ (i - 1)) % 2 == 1 then parts[#parts + 1] = name end
    end
    local rest = v - v % 2 ^ #names
    if rest ~= 0 then parts[#parts + 1] = format("0x%x", rest) end
    return table.concat(parts, "+")
end

local function sum_of(items, name)
    local total = 0
    local item_list = items or NOTHING
    for item_at = 1, #item_list do
        local item = item_list[item_at]
        total = total + tonum(item[name] or 0)
    end
    return total
end

local function len_of(v)
    return type(v) == "table" and v.bytes or 0
end

-- The parts that are not empty, joined by ``sep``; ``empty`` when all are.
local function join(sep, empty, ...)
    local out = {}
    for i = 1, select("#", ...) do
        local text = select(i, ...)
        if text ~= "" then out[#out + 1] = text end
    end
    if #out == 0 then return empty end
    return table.concat(out, sep)
end

local function version_text(major, minor, labels)
    local a, b = tonum(major), tonum(minor)
    local text = format("%d.%d", a, b)
    local label = labels[a * 65536 + b]
    if label then return text .. " (" .. label .. ")" end
    return text
end

-- Each layer's summary is a generated function of its values (SUMMARY, below).
local function summary_of(obj)
    return SUMMARY[obj.__layer](obj)
end

local function each(items, sep, limit)
    local out = {}
    items = items or NOTHING
    for i = 1, math.min(#items, limit) do out[i] = summary_of(items[i]) end
    local text = table.concat(out, sep)
    if #items > limit then text = text .. sep .. "... " .. (#items - limit) .. " more" end
    return text
end

-- what the generated layer functions use --------------------------------------------------

local floor, min, max = math.floor, math.min, math.max

-- ``bits`` bits from ``bit`` of the 64-bit unit (lo, hi): a number when it is below 2^53.
local function bits64(lo, hi, bit, bits)
    local v = UInt64(lo, hi):rshift(bit)
    if bits < 64 then v = v:band(U64_MASKS[bits]) end
    if v <= UInt64(0xFFFFFFFF, 0x1FFFFF) then return v:tonumber() end
    return v
end

-- A value for a 64-bit ProtoField: a number above 2^32 goes in as a UInt64.
local function u64(v)
    if type(v) ~= "number" then return v end
    local high = floor(v / 2 ^ 32)
    return UInt64(v - high * 2 ^ 32, high)
end

-- expert checks ------------------------------------------------------------------------

-- ``field``: the field the finding concerns, as dmdissect's checks name it (or nil).
local function expert(m, check, text, field)
    m.findings[#m.findings + 1] = { id = CHECK_IDS[check] or check, text = text, field = field }
end

local function reserved(m, obj, prefix)
    local layer = LAYERS[obj.__layer]
    local r_list = layer.reserved
    for r_at = 1, #r_list do
        local r = r_list[r_at]
        local v = obj[r.n]
        if r.layer ~= nil then
            if v ~= nil then reserved(m, v, prefix .. r.n .. ".") end
        elseif v ~= nil and not is_zero(v) then
            expert(m, "reserved_nonzero",
                "reserved field " .. prefix .. r.n .. " is not zero (" .. hex(v) .. ")", prefix .. r.n)
        end
    end
end

local function expected_size(m)
    local body = m.body
    local layer = LAYERS[body.__layer]
    local total = CONST.header_size + layer.fixed
    local counted_list = layer.counted
    for counted_at = 1, #counted_list do
        local counted = counted_list[counted_at]
        total = total + tonum(body[counted.count] or 0) * counted.item
    end
    local sized_list = layer.sized
    for sized_at = 1, #sized_list do
        local sized = sized_list[sized_at]
        total = total + tonum(body[sized.length] or 0)
    end
    local optional_list = layer.optional
    for optional_at = 1, #optional_list do
        local optional = optional_list[optional_at]
        if body[optional.n] ~= nil then total = total + optional.size end
    end
    return total
end

local function cut_short(body)
    if #body.missing > 0 then return true end
    local layer = LAYERS[body.__layer]
    local counted_list = layer.counted
    for counted_at = 1, #counted_list do
        local counted = counted_list[counted_at]
        if tonum(body[counted.count] or 0) > #(body[counted.n] or {}) then return true end
    end
    local sized_list = layer.sized
    for sized_at = 1, #sized_list do
        local sized = sized_list[sized_at]
        local items = body[sized.n] or {}
        if #items > 0 and #items[#items].missing > 0 then return true end
    end
    return false
end

local function check_entries(m, body, layer)
    local sized_list = layer.sized
    for sized_at = 1, #sized_list do
        local sized = sized_list[sized_at]
        local present = m.available - CONST.header_size - layer.fixed
        local claimed = tonum(body[sized.length] or 0)
        if body[sized.length] ~= nil and claimed > present then
            expert(m, "length:" .. sized.length,
                sized.length .. " " .. dec(claimed) .. " but only " .. math.max(present, 0) .. " bytes follow",
                sized.length)
        end
        for i, entry in ipairs(body[sized.n] or {}) do
            local where = sized.n .. "[" .. (i - 1) .. "]"
            if #entry.missing > 0 then
                expert(m, "entry_truncated:" .. sized.n,
                    where .. ": truncated entry, missing " .. table.concat(entry.missing, ", "), sized.n)
            else
                for name, v in pairs(entry) do
                    if type(v) == "table" and v.bytes ~= nil and v.bytes < v.claimed then
                        expert(m, "entry_data_short:" .. sized.n,
                            where .. ": " .. LAYERS[entry.__layer].length_of[name] .. " " .. v.claimed
                            .. " but only " .. v.bytes .. " bytes", sized.n)
                    end
                end
            end
        end
    end
end

local function check(m)
    if m.vmbus ~= nil then
        local claimed = m.vmbus.len8 * 8
        if claimed > m.frame_len then
            expert(m, "vmbus_len8_exceeds", "VMBus len8 " .. m.vmbus.len8 .. " claims " .. claimed
                .. " bytes but the frame holds " .. m.frame_len, "vmbus.len8")
        end
        if m.extra > 0 then
            expert(m, "vmbus_trailing", m.extra .. " bytes after the VMBus packet (len8 " .. m.vmbus.len8 .. ")",
                "vmbus.len8")
        end
        if m.size ~= nil then
            local padded = CONST.descriptor_size + m.size + (-m.size % 8)
            if claimed >= CONST.descriptor_size + CONST.header_size and claimed ~= padded and claimed <= m.frame_len then
                expert(m, "vmbus_len8_mismatch", "VMBus len8 " .. m.vmbus.len8 .. " (" .. claimed
                    .. " bytes) does not match the message (" .. padded .. " bytes with descriptor and padding)", "vmbus.len8")
            end
        end
    end
    if m.size == nil or m.trans_id == nil then
        expert(m, "short_header", plural(m.available, "byte") .. ": shorter than the " .. CONST.header_size .. "-byte header")
        return
    end
    local size = m.size
    local layer_key = MESSAGES[m.type]
    if layer_key == nil then
        expert(m, "unknown_type", "unknown message type " .. m.type, "type")
    end
    local fixed = layer_key and (CONST.header_size + LAYERS[layer_key].fixed)
    if size < CONST.header_size then
        expert(m, "size_below_header", "hdr.size " .. size .. " is smaller than the " .. CONST.header_size .. "-byte header",
            "size")
    elseif fixed ~= nil and size < fixed then
        expert(m, "size_below_fixed", "hdr.size " .. size .. " is smaller than the fixed part of "
            .. m.type_name .. " (" .. fixed .. " bytes)", "size")
    end
    if size > m.available then
        expert(m, "truncated", "truncated: hdr.size " .. size .. " but only " .. m.available .. " bytes present", "size")
    end
    local body = m.body
    if body == nil then return end
    local layer = LAYERS[body.__layer]
    if #body.missing > 0 then
        expert(m, "body_truncated", "truncated: the bytes end inside " .. m.type_name .. " after "
            .. m.available .. "; missing " .. table.concat(body.missing, ", "), body.missing[1])
    else
        local rest = m.available - m.consumed
        local padding = m.vmbus ~= nil and rest < 8 and m.rest_zero
        if rest > 0 and not cut_short(body) and not padding then
            expert(m, "trailing", rest .. " bytes after the end of the message (trailing)")
        end
        local expected = expected_size(m)
        if size ~= expected and size >= CONST.header_size and not (fixed and size < fixed) then
            expert(m, "size_mismatch", "hdr.size " .. size .. " disagrees with the content (" .. expected .. " bytes)", "size")
        end
        if #layer.counted > 0 and body[layer.counted[1].count] ~= nil and expected > CONST.max_part_bytes then
            expert(m, "part_too_large", expected .. " bytes in one part; peers send at most " .. CONST.max_part_bytes)
        end
    end
    local counted_list = layer.counted
    for counted_at = 1, #counted_list do
        local counted = counted_list[counted_at]
        local claimed = body[counted.count]
        if claimed ~= nil then
            local decoded = #(body[counted.n] or {})
            if tonum(claimed) > decoded then
                expert(m, "count:" .. counted.count, counted.count .. " " .. dec(claimed)
                    .. " but the bytes hold only " .. plural(decoded, counted.word), counted.count)
            end
        end
    end
    check_entries(m, body, layer)
    reserved(m, body, "")
end

-- what convert wrote in the packet's comments --------------------------------------------

local CRC_TABLE = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if band(c, 1) == 1 then c = bxor(0xEDB88320, rshift(c, 1)) else c = rshift(c, 1) end
    end
    CRC_TABLE[i] = c
end

local function crc32(text, crc)
    crc = bxor(crc or 0, 0xFFFFFFFF)
    for i = 1, #text do
        crc = bxor(CRC_TABLE[band(bxor(crc, text:byte(i)), 0xFF)], rshift(crc, 8))
    end
    return bxor(crc, 0xFFFFFFFF)
end

local function unescape(text)
    return (text:gsub("\\(.)", { n = "\n", r = "\r", ["\\"] = "\\" }))
end

local f_comment = Field.new(CONST.comment_field)

local function read_marker(tvb)
    if f_comment() == nil then return nil end
    local comments = { f_comment() }
    for _, info in ipairs(comments) do
        local text = tostring(info.value)
        local digest, body = text:match("^" .. CONST.marker_magic .. " (%x%x%x%x%x%x%x%x)\n(.*)$")
        if digest ~= nil then
            local crc = crc32(body, crc32(RAW))
            if format("%08x", crc) == digest then
                local marker = { findings = {} }
                for line in body:gmatch("[^\n]+") do
                    local key, value = line:match("^([^=]+)=(.*)$")
                    if key == "finding" or key == "source.finding" then
                        local severity, id, message = value:match("^(%S+) (%S+) (.*)$")
                        if severity then
                            marker.findings[#marker.findings + 1] = { severity = severity, id = id, text = unescape(message) }
                        end
                    elseif key == "finding.field" and #marker.findings > 0 then
                        marker.findings[#marker.findings].field = unescape(value)
                    elseif key ~= nil then
                        marker[key] = unescape(value)
                    end
                end
                return marker
            end
        end
    end
    return nil
end

-- the dissector ----------------------------------------------------------------------------

local function looks_like_descriptor(n)
    if n < CONST.descriptor_size + CONST.header_size then return false end
    local t0, t1, o0, o1, l0, l1 = RAW:byte(1, 6)
    return t0 + t1 * 256 == CONST.vmbus_inband
        and o0 + o1 * 256 == CONST.descriptor_size / 8
        and (l0 + l1 * 256) * 8 >= CONST.descriptor_size + CONST.header_size
end

-- What the header and the descriptor are dissected with: no message size yet.
local NO_CONTEXT = {}
-- What a message body is dissected with: its header's size, set per packet
-- (one table for every packet; nothing keeps a packet's values after it).
local BODY_CONTEXT = { size = nil }

local function all_zero(tvb, off, n)
    if n <= 0 then return true end
    local at = RAW:find("[^\0]", off + 1)
    return at == nil or at > off + n
end

local function direction(pinfo, msg_type)
    local dir = pinfo.p2p_dir
    if dir == 1 then return CONST.guest_to_host, "capture" end
    if dir == 0 then return CONST.host_to_guest, "capture" end
    local sender = msg_type and SENDER[msg_type]
    if sender then return sender, "inferred" end
    return nil, "unknown"
end

-- The ProtoExpert of a finding: its own id, else the catch-all of its severity.
local function expert_def(finding)
    return EXPERTS[finding.id] or EXPERTS[BY_SEVERITY[finding.severity] or BY_SEVERITY.note]
end
