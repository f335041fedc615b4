-- One packet's dissection, built three times over different tree functions
-- (see register.lua): the real ones, ones that learn which fields are asked
-- for, and ones that add nothing and only note which fields the packet has
-- (and make no labels: ``labels`` is false). It returns the packet's values
-- and findings (m).

local function dissect(tvb, pinfo, tree)
    RAW = tvb_raw(tvb)
    local frame_len = #RAW
    local cols = pinfo.cols
    cols.protocol = CONST.protocol_column
    local root = add(tree, hvdm, tvb_range(tvb, 0, frame_len))
    -- Every key named: Lua sizes the table once instead of growing it.
    local m = { findings = {}, frame_len = frame_len, extra = 0, vmbus = nil, available = nil,
        type = nil, size = nil, trans_id = nil, type_name = nil, consumed = nil, body = nil,
        rest_zero = nil }
    local start, limit = 0, frame_len
    if looks_like_descriptor(frame_len) then
        local vtree = add(root, F_VMBUS, tvb_range(tvb, 0, CONST.descriptor_size))
        m.vmbus = DISSECT[VMBUS](tvb, 0, CONST.descriptor_size, vtree, NO_CONTEXT)
        if labels then
            append_text(vtree, ": " .. (VMBUS_TYPES[m.vmbus.type] or tostring(m.vmbus.type)) .. ", len8 " .. m.vmbus.len8)
        end
        start = CONST.descriptor_size
        local finish = math.max(m.vmbus.len8 * 8, CONST.descriptor_size)
        limit = math.min(finish, frame_len)
        m.extra = math.max(0, frame_len - finish)
    end
    m.available = limit - start
    -- The header is there once its first field is (dmdissect's hdr): bytes that end
    -- before it are the undecoded body, and a frame with no message bytes has no header.
    local htree = nil
    if m.available >= CONST.header_first then
        htree = add(root, F_HDR, tvb_range(tvb, start, math.min(CONST.header_size, m.available)))
    end
    local hdr = DISSECT[HEADER](tvb, start, limit, htree, NO_CONTEXT)
    m.type, m.size, m.trans_id = hdr.type, hdr.size, hdr.trans_id
    m.type_name = "?"
    if m.type ~= nil then m.type_name = MESSAGE_TYPES[m.type] or ("UNKNOWN(" .. m.type .. ")") end
    local info = ""
    -- The protocol item's label: the type, and the body's summary when a layer read it.
    -- The body's fields go straight under the protocol item, as a C dissector's do: a
    -- subtree of its own would cost a tree item and a TvbRange per packet.
    local label_text = ", " .. m.type_name
    m.consumed = 0
    if m.trans_id ~= nil then
        m.consumed = CONST.header_size
        local key = MESSAGES[m.type]
        if key ~= nil then
            local off = start + CONST.header_size
            BODY_CONTEXT.size = m.size
            local body, after = DISSECT[key](tvb, off, limit, root, BODY_CONTEXT)
            m.body = body
            m.consumed = after - start
            if #body.missing == 0 then
                info = summary_of(body)
            else
                local present = {}
                for _, spec in ipairs(LAYERS[key].order) do
                    local v = body[spec]
                    if is_number(v) then present[#present + 1] = spec .. " " .. dec(v) end
                end
                info = "cut short"
                if #present > 0 then info = info .. " after " .. table.concat(present, ", ") end
            end
            label_text = label_text .. ": " .. info
        else
            info = (m.available - CONST.header_size) .. " bytes of body"
        end
        m.rest_zero = all_zero(tvb, start + m.consumed, m.available - m.consumed)
    end
    -- The bytes the layers did not decode, under dmdissect's names: after a whole
    -- message (trailing), of what was cut short (cut), or a body no layer reads (body).
    local rest = m.available - m.consumed
    if rest > 0 then
        local f = F_UNDECODED
        if m.body ~= nil then f = cut_short(m.body) and F_CUT or F_TRAILING end
        add(root, f, tvb_range(tvb, start + m.consumed, rest))
    end
    if m.extra > 0 then add(root, F_VMBUS_TRAILING, tvb_range(tvb, frame_len - m.extra, m.extra)) end
    if labels then append_text(root, label_text) end
    local dir, source = direction(pinfo, m.type)
    if dir ~= nil then set_generated(add(root, F_DIRECTION, dir)) end
    set_generated(add(root, F_DIRECTION_SOURCE, source))
    set_generated(add(root, F_TYPE_NAME, m.type_name))
    check(m)
    local marker = read_marker(tvb)
    local label = ""
    if marker ~= nil then
        local ttree = add(root, F_TRANSACTION, tvb_range(tvb, 0, 0))
        set_generated(ttree)
        -- Written with -Y, the capture holds some of the input's frames: its links
        -- count the input's frames, so they are plain numbers, not links.
        local input = tonumber(marker.input_frame or "")
        local renumbered = input ~= nil and input ~= pinfo.number
        for _, spec in ipairs(TRANSACTION_FIELDS) do
            local value = marker[spec.key]
            if value ~= nil and value ~= "" then
                local f = spec.f
                if spec.kind == "number" then value = tonumber(value) end
                if spec.kind == "frame" then
                    value = tonumber(value)
                    if renumbered then f = spec.f_input end
                end
                if spec.kind == "bool" then value = (value == "true") end
                if value ~= nil then set_generated(add(ttree, f, value)) end
            end
        end
        if marker.label ~= nil then
            local text = marker.label
            if renumbered then text = text .. "; frame numbers of the input" end
            if labels then append_text(ttree, ": " .. text) end
            label = " [" .. text .. "]"
        end
        -- The marker holds every finding dmdissect made; those raised above
        -- from the bytes are not raised twice.
        local raised = {}
        for _, finding in ipairs(m.findings) do
            raised[finding.text] = (raised[finding.text] or 0) + 1
        end
        for _, finding in ipairs(marker.findings) do
            if (raised[finding.text] or 0) > 0 then
                raised[finding.text] = raised[finding.text] - 1
            else
                m.findings[#m.findings + 1] = { id = finding.id, text = finding.text, severity = finding.severity,
                    field = finding.field }
            end
        end
    end
    local finding_list = m.findings
    for finding_at = 1, #finding_list do
        local finding = finding_list[finding_at]
        local def = expert_def(finding)
        local etree = add(root, F_EXPERT, tvb_range(tvb, 0, 0))
        set_generated(etree)
        if labels then append_text(etree, ": " .. finding.text) end
        add_proto_expert_info(etree, def.e, finding.text)
        set_generated(add(etree, F_EXPERT_ID, finding.id))
        set_generated(add(etree, F_EXPERT_GROUP, def.group))
        set_generated(add(etree, F_EXPERT_SEVERITY, finding.severity or def.severity))
        set_generated(add(etree, F_EXPERT_MESSAGE, finding.text))
        if finding.field ~= nil then set_generated(add(etree, F_EXPERT_FIELD, finding.field)) end
    end
    local tid = "-"
    if m.trans_id ~= nil then tid = dec(m.trans_id) end
    if info ~= "" then
        cols.info = m.type_name .. " id=" .. tid .. " " .. info .. label
    else
        cols.info = m.type_name .. " id=" .. tid .. label
    end
    return m
end

