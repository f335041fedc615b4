-- The benchmark's reference: a minimal Dynamic Memory dissector for tshark.
-- Header fields and the balloon response's page ranges, nothing else (no
-- expert checks, no transactions): what a hand-written dissector would do.
-- tshark -X lua_script:bench/minimal.lua -r FILE [-V]
local dm = Proto("dmbench", "Dynamic Memory (benchmark)")
local f_type = ProtoField.uint16("dmbench.type", "type", base.DEC)
local f_size = ProtoField.uint16("dmbench.size", "size", base.DEC)
local f_id = ProtoField.uint32("dmbench.trans_id", "trans_id", base.DEC)
local f_more = ProtoField.uint32("dmbench.more_pages", "more_pages", base.DEC, nil, 0x1)
local f_count = ProtoField.uint32("dmbench.range_count", "range_count", base.DEC, nil, 0xfffffffe)
local f_start = ProtoField.uint64("dmbench.start_page", "start_page", base.HEX)
local f_cnt = ProtoField.uint32("dmbench.page_cnt", "page_cnt", base.DEC)
dm.fields = { f_type, f_size, f_id, f_more, f_count, f_start, f_cnt }

function dm.dissector(buf, pinfo, tree)
    if buf:len() >= 24 and buf(0, 2):le_uint() == 6 and buf(2, 2):le_uint() == 2 then
        buf = buf(16):tvb() -- a VMBus in-band descriptor first: the message follows it
    end
    if buf:len() < 8 then return end
    pinfo.cols.protocol = "DM"
    local t = tree:add(dm, buf())
    local kind = buf(0, 2):le_uint()
    t:add_le(f_type, buf(0, 2)); t:add_le(f_size, buf(2, 2)); t:add_le(f_id, buf(4, 4))
    pinfo.cols.info = "type " .. kind .. " id " .. buf(4, 4):le_uint()
    if kind ~= 7 or buf:len() < 16 then return end
    t:add_le(f_more, buf(12, 4)); t:add_le(f_count, buf(12, 4))
    local count = math.min(bit.rshift(buf(12, 4):le_uint(), 1), math.floor((buf:len() - 16) / 8))
    for i = 0, count - 1 do
        local at = 16 + 8 * i
        local r = t:add(buf(at, 8), "range " .. i)
        r:add_le(f_start, buf(at, 5)); r:add_le(f_cnt, buf(at + 5, 3))
    end
end

DissectorTable.get("wtap_encap"):add(wtap.USER0, dm)
